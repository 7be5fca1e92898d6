"""The only place boto3 and botocore are imported: sessions, clients, and what AWS errors mean."""
