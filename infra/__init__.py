"""AWS CDK infrastructure of Bedrock Cost Tracker: one construct per concern.

``stack.py`` composes them; ``lambda_function.py`` holds the Lambda defaults every
function shares; ``nag.py`` keeps cdk-nag acknowledgements explicit and reasoned.
"""
