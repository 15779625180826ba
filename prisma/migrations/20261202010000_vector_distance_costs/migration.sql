-- What a vector distance costs the planner. pgvector declares its distance functions with the
-- default cost of 1 (one cpu_operator_cost, the price of an integer comparison), so the planner
-- thought an exact scan (one distance per row) of a 4k-image catalog cheaper than its HNSW index:
-- 5.9 ms against 0.8 ms for the index scan (PGlite, EXPLAIN ANALYZE, 2026-12-02). A 128-d
-- distance is a few hundred floating-point operations, about 100 times a comparison (measured
-- here: ~1 us per distance on PGlite, ~0.2 us natively). At COST 100 the planner takes the index
-- from a few thousand rows of a merchant up, and still scans exactly a merchant or a filter with
-- few rows, where that is faster. Changing a function needs its owner (whoever created the
-- extension); without that right the migration leaves the costs as they are and says so.
DO $$
BEGIN
  ALTER FUNCTION cosine_distance(vector, vector) COST 100;
  ALTER FUNCTION l2_distance(vector, vector) COST 100;
  ALTER FUNCTION cosine_distance(halfvec, halfvec) COST 100;
  ALTER FUNCTION l2_distance(halfvec, halfvec) COST 100;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'vector distance costs left unchanged (not the owner of the vector extension)';
END
$$;
