"""曝光台 and 光荣榜: verified cases of uncivil behaviour and reports of good conduct, published after review."""
