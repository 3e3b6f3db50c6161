-- Every tag key present on Bedrock usage of one billing period, as stored (resource_tags
-- keys like 'user_team', tags keys like 'resourceTags/user:team' or 'iamPrincipal/team').
-- Run only when a `--by tag:<key>` report found no value at all, to say whether the key
-- exists under another case or not at all.
SELECT k AS stored_key
FROM {{database}}.bedrock_line_items_base
CROSS JOIN UNNEST(map_keys(resource_tags)) AS t (k)
WHERE billing_period = :period AND is_usage
UNION
SELECT k AS stored_key
FROM {{database}}.bedrock_line_items_base
CROSS JOIN UNNEST(map_keys(tags)) AS t (k)
WHERE billing_period = :period AND is_usage
