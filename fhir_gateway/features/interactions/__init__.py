"""Doctor-patient interactions: an Encounter each, with the Observations made in it."""
