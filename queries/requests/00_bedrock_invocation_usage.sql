-- One row per invocation-log line: identity, model as passed, the billed token counts and flags.
-- Body usage (data delivery on) wins over the envelope counts; disagreements are flagged.
-- Error records count as requests with no tokens; lines that are not a ModelInvocationLog are
-- kept as malformed = 1 (the JSON reader turns an unparseable line into a row of NULLs) and carry no
-- tokens: a line of another schema may still parse, but it is counted, never priced.
CREATE OR REPLACE VIEW {{database}}.bedrock_invocation_usage AS
WITH raw AS (
  SELECT
    requestid AS request_id,
    substr("timestamp", 1, 19) AS ts,
    COALESCE(accountid, '') AS account,
    COALESCE(region, '') AS region,
    COALESCE(identity.arn, '') AS principal,
    COALESCE(operation, '') AS operation,
    COALESCE(modelid, '') AS model_id,
    errorcode AS error_code,
    requestmetadata AS request_metadata,
    CASE WHEN schematype = 'ModelInvocationLog' AND requestid IS NOT NULL THEN 0 ELSE 1 END AS malformed,
    COALESCE("input".inputtokencount, 0) AS env_input,
    COALESCE("output".outputtokencount, 0) AS env_output,
    COALESCE("input".cachereadinputtokencount, 0) AS env_cache_read,
    COALESCE("input".cachewriteinputtokencount, 0) AS env_cache_write,
    CAST(COALESCE(
      json_extract_scalar("output".outputbodyjson, '$.usage.inputTokens'),
      json_extract_scalar("output".outputbodyjson, '$.usage.input_tokens')) AS BIGINT) AS body_input,
    CAST(COALESCE(
      json_extract_scalar("output".outputbodyjson, '$.usage.outputTokens'),
      json_extract_scalar("output".outputbodyjson, '$.usage.output_tokens')) AS BIGINT) AS body_output,
    CAST(COALESCE(
      json_extract_scalar("output".outputbodyjson, '$.usage.cacheReadInputTokens'),
      json_extract_scalar("output".outputbodyjson, '$.usage.cache_read_input_tokens'), '0') AS BIGINT) AS body_cache_read,
    CAST(COALESCE(
      json_extract_scalar("output".outputbodyjson, '$.usage.cacheWriteInputTokens'),
      json_extract_scalar("output".outputbodyjson, '$.usage.cache_creation_input_tokens'), '0') AS BIGINT) AS body_cache_write,
    CAST(COALESCE(json_extract_scalar("output".outputbodyjson, '$.usage.cache_creation.ephemeral_1h_input_tokens'), '0') AS BIGINT)
      + CASE WHEN json_extract_scalar("output".outputbodyjson, '$.usage.cacheDetails[0].ttl') = '1h'
          THEN CAST(json_extract_scalar("output".outputbodyjson, '$.usage.cacheDetails[0].inputTokens') AS BIGINT) ELSE 0 END
      + CASE WHEN json_extract_scalar("output".outputbodyjson, '$.usage.cacheDetails[1].ttl') = '1h'
          THEN CAST(json_extract_scalar("output".outputbodyjson, '$.usage.cacheDetails[1].inputTokens') AS BIGINT) ELSE 0 END
      AS body_cache_write_1h
  FROM {{database}}.{{table}}
),
chosen AS (
  SELECT
    *,
    CASE WHEN body_input IS NOT NULL OR body_output IS NOT NULL THEN 1 ELSE 0 END AS has_body
  FROM raw
)
SELECT
  request_id,
  ts,
  substr(ts, 1, 13) AS hour,
  substr(ts, 1, 10) AS day,
  account,
  region,
  principal,
  model_id,
  operation,
  request_metadata,
  malformed,
  CASE WHEN error_code IS NULL THEN 0 ELSE 1 END AS is_error,
  CASE WHEN lower(operation) LIKE '%invocationjob%' OR lower(operation) LIKE '%batch%' THEN 'batch'
    ELSE 'on-demand' END AS tier,
  CASE WHEN error_code IS NOT NULL OR malformed = 1 THEN 0 WHEN has_body = 1 THEN COALESCE(body_input, 0) ELSE env_input END AS input_tokens,
  CASE WHEN error_code IS NOT NULL OR malformed = 1 THEN 0 WHEN has_body = 1 THEN COALESCE(body_output, 0) ELSE env_output END AS output_tokens,
  CASE WHEN error_code IS NOT NULL OR malformed = 1 THEN 0 WHEN has_body = 1 THEN body_cache_read ELSE env_cache_read END AS cache_read_tokens,
  CASE WHEN error_code IS NOT NULL OR malformed = 1 THEN 0 WHEN has_body = 1 THEN body_cache_write ELSE env_cache_write END AS cache_write_tokens,
  CASE WHEN error_code IS NOT NULL OR malformed = 1 OR has_body = 0 THEN 0
    ELSE least(body_cache_write_1h, body_cache_write) END AS cache_write_1h_tokens,
  CASE WHEN error_code IS NULL AND malformed = 0 AND has_body = 1 AND (
      COALESCE(body_input, 0) <> env_input OR COALESCE(body_output, 0) <> env_output
      OR body_cache_read <> env_cache_read OR body_cache_write <> env_cache_write) THEN 1 ELSE 0 END AS disagreement
FROM chosen
