"""IAM Identity Center: the token cache shared with the AWS CLI, SSO-OIDC sign-in and renewal."""
