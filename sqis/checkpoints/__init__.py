"""Checkpoints of the communities of practice (METHODOLOGY.md, *Communities of practice and
checkpoints*).

    "A checkpoint records who attended, each school's plan status (DRAFT, SUBMITTED,
    APPROVED) and, where interim data is delivered, the school's indicators so far against
    its identification values; a plan not approved by the second checkpoint is flagged."

Split as the reports are, into rules, I/O and rendering:

- ``sqis.checkpoints.rules`` — the rules, plain functions over frames: the indicators so
  far from the interim files (:func:`~sqis.checkpoints.rules.interim_indicators`: chronic
  absence and met rates so far), each Focus school's values against those of its
  identification year, off track or not
  (:func:`~sqis.checkpoints.rules.compare_to_identification`), and the plans not approved
  in time (:func:`~sqis.checkpoints.rules.checkpoint_flags`);
- ``sqis.checkpoints.run`` — one checkpoint from those rules
  (:func:`~sqis.checkpoints.run.run_checkpoint`): the rows the results store records and
  one brief context per community;
- ``sqis.checkpoints.io`` — the checkpoint from the results store and the data root
  (:func:`~sqis.checkpoints.io.hold_checkpoint`: the store's reads, the interim files,
  the record written, the briefs rendered for publication);
- ``sqis.checkpoints.markdown`` — the Markdown summary of a checkpoint for a run artifact
  (:func:`~sqis.checkpoints.markdown.brief_markdown`);
- the briefs themselves are rendered beside the reports, by
  ``sqis.reports.checkpoint_briefs`` (``templates/reports/checkpoint_brief.html``).

No student ID goes into any output: interim files are aggregated to schools and groups.
Briefs are meant for the community's school leaders: they are **staff documents**
(METHODOLOGY.md "Two editions"; docs/reports.md), published in the staff edition only and
showing every value, count and change (``sqis.suppression.staff_cells``).
"""
