-- Billed Bedrock usage cost per IAM principal (needs the export's IAM principal data;
-- rows without it go to '(unknown)').
CREATE OR REPLACE VIEW {{database}}.bedrock_cost_by_principal AS
SELECT
  billing_period,
  COALESCE(principal, '(unknown)') AS principal,
  {{usage_sums}}
FROM {{database}}.bedrock_line_items_base
WHERE is_usage
GROUP BY billing_period, COALESCE(principal, '(unknown)')
