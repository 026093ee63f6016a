"""Writes of the rewards app: coupons (`coupons`), batches of codes (`batches`)
and the rewards catalogue (`rewards`)."""
