"""Cross-province referral (NCMS pilot 2018): 2501/2502 转院备案 and the signed year-to-date accumulator record."""
