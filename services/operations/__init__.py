"""Running the grading operation: partners, graders and their credentials, programmes, gold."""
