"""Replay against a live service: the target protocol (docs/target-protocol.md), its
transports, `treasure serve`, the open-model senders and the target process's figures."""
