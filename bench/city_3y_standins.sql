-- Stand-in rows for TIMING the 3-year request only (values are copies, not the real figures of those days):
-- the daily rows of 2023-11-25…30 copied from 2025-11-25…30, the monthly rows of 2023-12 from 2025-12,
-- the yearly rows of 2024 from 2025 (which holds 2025-11 and 2025-12, the months rolled up).
BEGIN;
DELETE FROM cockpit_dailyfigure WHERE day BETWEEN '2023-11-25' AND '2023-11-30';
DELETE FROM cockpit_monthlyfigure WHERE day = '2023-12-01';
DELETE FROM cockpit_yearlyfigure WHERE day = '2024-01-01';
INSERT INTO cockpit_dailyfigure (day, level, unit_id, dim, key, received, rejected, dispatched, signed, resolved, closed, closed_on_time, auto_closed, deferred, deferred_closed, reworked, rated, satisfied, basic_satisfied, unsatisfied, sign_seconds_sum, resolve_seconds_sum)
  SELECT (day - interval '2 years')::date, level, unit_id, dim, key, received, rejected, dispatched, signed, resolved, closed, closed_on_time, auto_closed, deferred, deferred_closed, reworked, rated, satisfied, basic_satisfied, unsatisfied, sign_seconds_sum, resolve_seconds_sum
  FROM cockpit_dailyfigure WHERE day BETWEEN '2025-11-25' AND '2025-11-30';
INSERT INTO cockpit_monthlyfigure (day, level, unit_id, dim, key, received, rejected, dispatched, signed, resolved, closed, closed_on_time, auto_closed, deferred, deferred_closed, reworked, rated, satisfied, basic_satisfied, unsatisfied, sign_seconds_sum, resolve_seconds_sum)
  SELECT '2023-12-01', level, unit_id, dim, key, received, rejected, dispatched, signed, resolved, closed, closed_on_time, auto_closed, deferred, deferred_closed, reworked, rated, satisfied, basic_satisfied, unsatisfied, sign_seconds_sum, resolve_seconds_sum
  FROM cockpit_monthlyfigure WHERE day = '2025-12-01';
INSERT INTO cockpit_yearlyfigure (day, level, unit_id, dim, key, received, rejected, dispatched, signed, resolved, closed, closed_on_time, auto_closed, deferred, deferred_closed, reworked, rated, satisfied, basic_satisfied, unsatisfied, sign_seconds_sum, resolve_seconds_sum)
  SELECT '2024-01-01', level, unit_id, dim, key, received, rejected, dispatched, signed, resolved, closed, closed_on_time, auto_closed, deferred, deferred_closed, reworked, rated, satisfied, basic_satisfied, unsatisfied, sign_seconds_sum, resolve_seconds_sum
  FROM cockpit_yearlyfigure WHERE day = '2025-01-01';
COMMIT;
ANALYZE cockpit_dailyfigure; ANALYZE cockpit_monthlyfigure; ANALYZE cockpit_yearlyfigure;
