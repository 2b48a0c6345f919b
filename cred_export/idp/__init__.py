"""Corporate identity providers: OIDC (authorization code + PKCE, device code) and SAML."""
