"""Moving running cases to a newer process version on the PostgreSQL store: the engine-level tests of
tests/test_migrate.py that need nothing of SQLite, run again on a PostgreSQL URL (not copied)."""

from __future__ import annotations

import pytest
import test_migrate

ON_ANY_STORE = [
    "test_a_case_keeps_its_state_moves_to_the_new_hash_and_replays_to_its_row",
    "test_a_mapped_state_moves_there_and_its_pause_goes_on",
    "test_a_loosened_budget_keeps_the_time_used_and_moves_the_due_by_the_difference",
    "test_a_tightened_deadline_already_past_breaches_at_the_next_tick",
    "test_what_ran_out_on_the_old_version_is_recorded_before_the_move",
    "test_a_removed_field_holding_a_value_is_refused_and_an_empty_one_is_not",
    "test_a_case_that_changed_since_it_was_read_is_refused_with_a_conflict",
]


@pytest.mark.parametrize("name", ON_ANY_STORE)
def test_migration_on_postgresql(name, postgres_url):
    getattr(test_migrate, name)(postgres_url)
