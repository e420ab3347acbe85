"""minicnn: a from-scratch convolutional-network framework."""
