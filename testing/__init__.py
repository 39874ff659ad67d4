"""Support shared by the tests and the benchmarks: free ports, scratch PostgreSQL databases, fake Telegram.

Product code never imports it; bench/ and tests/ both may (bench/ never imports tests/).
"""
