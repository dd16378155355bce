-- A service built from a sub-directory of its repository (compose `build: ./api`); NULL = the repository root.
ALTER TABLE services ADD COLUMN build_context TEXT;
