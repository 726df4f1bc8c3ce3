"""The pure Nostr protocol core: no I/O, no clock, no randomness (time, RNG and limits are arguments).

Everything here is tested by feeding it text and objects, in the sans-I/O style of h11.
"""
