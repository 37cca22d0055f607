"""SoniqueBay audio analysis: tempo, key and features with librosa-grade building blocks, fast."""
