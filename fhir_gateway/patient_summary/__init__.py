"""A patient's summary, as both faces serve it: the record gathered from the FHIR server
(`record`), its key facts (`facts`), a narrative from the language model or written offline
(`narrative`), put together by `compose.summarize`, and summaries kept by the versions they
were made from (`cache`)."""
