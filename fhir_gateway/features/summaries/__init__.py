"""Patient summaries: the record gathered, its key facts, and a narrative from a language model or written offline."""
