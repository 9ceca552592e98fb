"""Is the flow run that holds a year's lock still running? (asked of the Prefect API)."""

from __future__ import annotations

from uuid import UUID


def flow_run_alive(flow_run_id: str) -> bool:
    """True while the flow run is scheduled, pending or running; False once it is final.

    A flow run the API does not know (another server, deleted) counts as not alive only
    when the API says so explicitly; any other error propagates and the caller falls
    back to the host/PID check.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        fr_id = UUID(str(flow_run_id))
    except ValueError:
        return True
    try:
        with get_client(sync_client=True) as client:
            fr = client.read_flow_run(fr_id)
    except ObjectNotFound:
        return False
    state = fr.state
    if state is None:
        return True
    # a CRASHED run is final; a RUNNING run whose process died shows as RUNNING until the
    # server's zombie detection marks it: the PID check covers that case on the same host
    return not state.is_final()
