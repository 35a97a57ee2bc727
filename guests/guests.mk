# Conformance guests (owned by guests/): builds $(GUEST_IMAGES).
GUEST_IMAGES :=
