"""Administration API under ``/admin/`` (exception queue, jobs, pipeline status), guarded by
the ``system/facade.admin`` scope."""
