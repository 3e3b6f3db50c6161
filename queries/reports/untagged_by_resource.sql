-- Usage spend of one billing period per resource and principal, with the resource's
-- value for up to 8 tag-policy keys (:key_a ... :key_h; an unused slot gets '' and
-- yields NULL). A value is NULL when the tag is missing or blank. The tag policy
-- (allowed values, patterns, case rules) is then evaluated in Python on each group, with
-- the same code the tag-enforcer runs. Keys travel as parameters, never as SQL text.
SELECT
  COALESCE(resource_id, '(no resource)') AS resource_id,
  COALESCE(principal, '(unknown)') AS principal,
  COALESCE(NULLIF(TRIM(element_at(resource_tags, CONCAT('user_', :key_a))), ''), NULLIF(TRIM(element_at(resource_tags, CONCAT('user:', :key_a))), ''), NULLIF(TRIM(element_at(tags, CONCAT('resourceTags/user:', :key_a))), '')) AS tag_0,
  COALESCE(NULLIF(TRIM(element_at(resource_tags, CONCAT('user_', :key_b))), ''), NULLIF(TRIM(element_at(resource_tags, CONCAT('user:', :key_b))), ''), NULLIF(TRIM(element_at(tags, CONCAT('resourceTags/user:', :key_b))), '')) AS tag_1,
  COALESCE(NULLIF(TRIM(element_at(resource_tags, CONCAT('user_', :key_c))), ''), NULLIF(TRIM(element_at(resource_tags, CONCAT('user:', :key_c))), ''), NULLIF(TRIM(element_at(tags, CONCAT('resourceTags/user:', :key_c))), '')) AS tag_2,
  COALESCE(NULLIF(TRIM(element_at(resource_tags, CONCAT('user_', :key_d))), ''), NULLIF(TRIM(element_at(resource_tags, CONCAT('user:', :key_d))), ''), NULLIF(TRIM(element_at(tags, CONCAT('resourceTags/user:', :key_d))), '')) AS tag_3,
  COALESCE(NULLIF(TRIM(element_at(resource_tags, CONCAT('user_', :key_e))), ''), NULLIF(TRIM(element_at(resource_tags, CONCAT('user:', :key_e))), ''), NULLIF(TRIM(element_at(tags, CONCAT('resourceTags/user:', :key_e))), '')) AS tag_4,
  COALESCE(NULLIF(TRIM(element_at(resource_tags, CONCAT('user_', :key_f))), ''), NULLIF(TRIM(element_at(resource_tags, CONCAT('user:', :key_f))), ''), NULLIF(TRIM(element_at(tags, CONCAT('resourceTags/user:', :key_f))), '')) AS tag_5,
  COALESCE(NULLIF(TRIM(element_at(resource_tags, CONCAT('user_', :key_g))), ''), NULLIF(TRIM(element_at(resource_tags, CONCAT('user:', :key_g))), ''), NULLIF(TRIM(element_at(tags, CONCAT('resourceTags/user:', :key_g))), '')) AS tag_6,
  COALESCE(NULLIF(TRIM(element_at(resource_tags, CONCAT('user_', :key_h))), ''), NULLIF(TRIM(element_at(resource_tags, CONCAT('user:', :key_h))), ''), NULLIF(TRIM(element_at(tags, CONCAT('resourceTags/user:', :key_h))), '')) AS tag_7,
  SUM(cost_usd) AS cost_usd
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period AND is_usage
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
