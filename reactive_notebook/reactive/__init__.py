"""The pure reactive core: dependency analysis, the notebook graph and the run planner.

Nothing here imports tornado, jupyter_server, jupyter_client or boto3; it is plain,
fast Python, tested without a server.
"""
