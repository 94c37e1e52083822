"""Fakes of every remote API, speaking real HTTP(S) on loopback.

The real client libraries (requests/msal, googleapiclient, slack_sdk, dnspython) run end
to end against them; tests and ``bench/`` share them. Nothing here reaches the internet.
"""
