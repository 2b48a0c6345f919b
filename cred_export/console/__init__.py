"""AWS Sign-In, behind `aws login` ("console credentials"): the session file shared with the AWS
CLI and botocore, DPoP proofs, the token service, renewal under a lock, and the sign-in itself."""
