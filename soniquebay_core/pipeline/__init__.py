"""The pipeline: after a scan, every track flows through the enabled plugins' stages.

    sweep.py     asks the database what is pending (stages.py) and enqueues jobs
    job.py       what a job is: (plugin, stage, bucket of ids | explicit ids), its id and queue
    embedded.py  runs jobs inside the soniquebay process (no Redis): a bounded asyncio pool
    rq_backend.py  runs the same jobs on RQ queues in Redis; rq_jobs.py holds the functions
                 workers import; worker.py is `soniquebay worker`
    runner.py    one job: load snapshots, call the plugin per target, decide retry or failure,
                 write results and stage state in one transaction (results.py)
    events.py    progress events, in-process or over Redis pub/sub
    metrics.py   per stage and plugin counters, in-process or in Redis

Both backends share the runner, the retry rules and the limits: a job only
carries ids, and the database decides what it still has to do, so running a
job twice, losing a queue, or killing a worker loses and duplicates nothing.
"""
