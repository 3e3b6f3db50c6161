-- Billed Bedrock usage cost per configured cost-allocation tag key and value.
-- Rows lacking the tag (missing key, NULL or empty map, empty value) go to '(untagged)',
-- so every tag key's groups add up to the same total as the bill.
CREATE OR REPLACE VIEW {{database}}.bedrock_cost_by_tag AS
SELECT
  li.billing_period,
  k.tag_key,
  COALESCE({{tag_value_of_k}}, '(untagged)') AS tag_value,
  {{usage_sums}}
FROM {{database}}.bedrock_line_items_base li
CROSS JOIN UNNEST({{tag_keys_array}}) AS k (tag_key)
WHERE li.is_usage
GROUP BY li.billing_period, k.tag_key, COALESCE({{tag_value_of_k}}, '(untagged)')
