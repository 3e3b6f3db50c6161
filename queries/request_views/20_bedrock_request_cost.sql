-- One row per well-formed invocation-log record with its user (the shared identity rule, as
-- domain/identity.py applies it), resolved model and exact cost. cost_usd is NULL when a token
-- kind with tokens has no price (unknown model, unresolved application profile): unpriced.
CREATE OR REPLACE VIEW {{database}}.bedrock_request_cost AS
WITH base AS (
  SELECT
    u.*,
    trim(principal) AS p,
    regexp_extract(trim(principal), '^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:(.+)$', 1) AS svc,
    regexp_extract(trim(principal), '^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:(.+)$', 2) AS res,
    lower(element_at(split(trim(model_id), '/'), -1)) AS bare_id,
    CASE WHEN input_tokens + cache_read_tokens + cache_write_tokens > 200000 THEN 1 ELSE 0 END AS long_context
  FROM {{database}}.bedrock_invocation_usage u
  WHERE malformed = 0
),
named AS (
  SELECT
    *,
    regexp_extract(res, '^assumed-role/+([^/]+)/+([^/]+)/*$', 1) AS ar_role,
    regexp_extract(res, '^assumed-role/+([^/]+)/+([^/]+)/*$', 2) AS ar_session,
    regexp_extract(res, '([^/]+)/*$', 1) AS last_part,
    CASE WHEN strpos(model_id, 'application-inference-profile') > 0 OR regexp_like(bare_id, '^[a-z0-9]{6,64}$') THEN '' ELSE
      regexp_replace(bare_id, '^(us-gov|us|eu|apac|jp|au|ca|global)\.', '') END AS alias_key,
    CASE WHEN regexp_like(bare_id, '^global\.[a-z0-9-]+\..+$') THEN 'global' ELSE 'regional' END AS scope
  FROM base
),
who AS (
  SELECT
    *,
    CASE
      WHEN p = '' THEN '(unknown)'
      WHEN regexp_like(p, '^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$') THEN p
      WHEN res IS NULL OR res = '' THEN '(unknown)'
      WHEN svc = 'iam' AND regexp_like(res, '^root/*$') THEN 'root'
      WHEN svc = 'iam' AND regexp_like(res, '^(user|role)/.*[^/]') THEN last_part
      WHEN svc = 'iam' THEN '(unknown)'
      WHEN regexp_like(res, '^federated-user/+[^/]+/*$') THEN
        CASE WHEN regexp_like(last_part, '^[^@\s/]+@[^@\s/]+\.[^@\s/]+$') THEN lower(last_part) ELSE last_part END
      WHEN ar_role IS NOT NULL AND ar_role <> '' THEN
        CASE
          WHEN regexp_like(ar_session, '^[^@\s/]+@[^@\s/]+\.[^@\s/]+$') THEN lower(ar_session)
          WHEN starts_with(ar_role, 'AWSReservedSSO_') THEN ar_session
          ELSE ar_role
        END
      ELSE '(unknown)'
    END AS user_name
  FROM named
),
units AS (
  SELECT
    w.*,
    t.model,
    CASE WHEN w.long_context = 1 THEN COALESCE(lc.input_usd, t.input_usd * COALESCE(m.input_multiplier, 1))
      ELSE t.input_usd END AS input_unit,
    CASE WHEN w.long_context = 1 THEN COALESCE(lc.output_usd, t.output_usd * COALESCE(m.output_multiplier, 1))
      ELSE t.output_usd END AS output_unit,
    CASE WHEN w.long_context = 1 THEN COALESCE(lc.cache_read_usd, t.cache_read_usd * COALESCE(m.input_multiplier, 1))
      ELSE t.cache_read_usd END AS cache_read_unit,
    CASE WHEN w.long_context = 1 THEN COALESCE(lc.cache_write_usd, t.cache_write_usd * COALESCE(m.input_multiplier, 1))
      ELSE t.cache_write_usd END AS cache_write_unit,
    h.cache_write_usd AS cache_write_1h_catalog
  FROM who w
  LEFT JOIN {{database}}.bedrock_request_prices t
    ON t.alias = w.alias_key AND t.scope = w.scope AND t.tier = w.tier
  LEFT JOIN {{database}}.bedrock_request_prices lc
    ON lc.alias = w.alias_key AND lc.scope = w.scope AND lc.tier = 'long-context'
  LEFT JOIN {{database}}.bedrock_request_prices h
    ON h.alias = w.alias_key AND h.scope = w.scope AND h.tier = concat(w.tier, '+cache-1h')
  LEFT JOIN {{database}}.bedrock_request_long_context m
    ON m.model = t.model
),
priced AS (
  SELECT
    *,
    COALESCE(cache_write_1h_catalog, input_unit * 2) AS cache_write_1h_unit
  FROM units
)
SELECT
  request_id,
  ts,
  hour,
  day,
  account,
  region,
  principal,
  user_name AS "user",
  model_id,
  COALESCE(model, CASE WHEN alias_key = '' THEN concat('(unresolved) ', model_id) ELSE alias_key END) AS model,
  scope,
  tier,
  long_context,
  operation,
  request_metadata,
  is_error,
  input_tokens,
  output_tokens,
  cache_read_tokens,
  cache_write_tokens,
  cache_write_1h_tokens,
  CASE
    WHEN (input_tokens > 0 AND input_unit IS NULL)
      OR (output_tokens > 0 AND output_unit IS NULL)
      OR (cache_read_tokens > 0 AND cache_read_unit IS NULL)
      OR (cache_write_tokens - cache_write_1h_tokens > 0 AND cache_write_unit IS NULL)
      OR (cache_write_1h_tokens > 0 AND cache_write_1h_unit IS NULL) THEN NULL
    ELSE COALESCE(input_tokens * input_unit, 0)
      + COALESCE(output_tokens * output_unit, 0)
      + COALESCE(cache_read_tokens * cache_read_unit, 0)
      + COALESCE((cache_write_tokens - cache_write_1h_tokens) * cache_write_unit, 0)
      + COALESCE(cache_write_1h_tokens * cache_write_1h_unit, 0)
  END AS cost_usd
FROM priced
