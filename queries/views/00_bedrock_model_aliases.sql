-- Every name a Bedrock model goes by (API model id, CUR billing name, Marketplace product
-- name), lower-cased, mapped to one readable model name and its provider.
-- Rendered from the package's models.json so the views and the Python code agree.
CREATE OR REPLACE VIEW {{database}}.bedrock_model_aliases AS
SELECT alias, model, provider
FROM (
  VALUES
    {{model_alias_rows}}
) AS t (alias, model, provider)
