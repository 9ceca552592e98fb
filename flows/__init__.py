"""The sqis calendar as Prefect flows: annual cycle, community checkpoints, Oversight reports."""
