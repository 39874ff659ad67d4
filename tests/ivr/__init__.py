"""Tests of the voice channel."""
