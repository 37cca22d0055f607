"""SoniqueBay audio analysis: tempo, key, loudness and features from one excerpt and one STFT."""
