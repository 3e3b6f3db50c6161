-- Long-context multipliers (input side over 200K tokens) for models that bill it and have no
-- catalog price under tier 'long-context': (input-side multiplier, output multiplier).
CREATE OR REPLACE VIEW {{database}}.bedrock_request_long_context AS
SELECT model, input_multiplier, output_multiplier
FROM (
  VALUES
    {{long_context_rows}}
) AS t (model, input_multiplier, output_multiplier)
