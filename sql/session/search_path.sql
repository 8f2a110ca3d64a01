-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO {schema}
