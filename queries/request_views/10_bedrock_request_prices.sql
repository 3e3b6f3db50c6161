-- Unit prices (USD per token) for the per-request views, one row per model alias, scope and
-- tier, rendered at deploy time from the price catalog the ingest Lambda uses. A model missing
-- here is unpriced in the views (cost NULL, counted in unpriced_requests), never priced at 0.
CREATE OR REPLACE VIEW {{database}}.bedrock_request_prices AS
SELECT a.alias, p.model, p.scope, p.tier, p.input_usd, p.output_usd, p.cache_read_usd, p.cache_write_usd
FROM (
  VALUES
    {{request_price_rows}}
) AS p (model, scope, tier, input_usd, output_usd, cache_read_usd, cache_write_usd)
JOIN (
  VALUES
    {{model_alias_rows}}
) AS a (alias, model, provider) ON a.model = p.model
