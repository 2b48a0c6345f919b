"""AWS service clients: botocore client construction, STS calls, and the AWS config file."""
