"""The sending engine: start, claim, send, record, retry, expire, finish."""
