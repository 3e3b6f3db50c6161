-- HTML report: billed usage cost per configured tag key and value ('(untagged)' when missing).
SELECT tag_key, tag_value, cost_usd
FROM {{database}}.bedrock_cost_by_tag
WHERE billing_period = :period
ORDER BY tag_key, cost_usd DESC, tag_value
