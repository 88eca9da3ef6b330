"""The one results format of neurosim: a self-describing HDF5 file, written crash-safely.

Layout of a finished file ``<out>``::

    /                      attrs: format = "neurosim-results", format_version, any write_main attrs
    /meta                  attrs: neurosim_version, python_version, command_line, host,
                                  start_time, end_time (ISO 8601, UTC), [resume_times],
                                  backend, seed, ... (whatever the caller passes)
    /config                scalar string dataset: the experiment's parameters as JSON
    /spikes/<population>   times_ms (float64), ids (int64)
    /traces/<population>   times_ms, ids, one (n_times, n_ids) dataset per variable (v_mV, ...)
    /weights/<projection>  times_ms, values (n_snapshots, n_synapses)
    /metrics/<name>        an array with a string attribute ``units`` ("" = dimensionless)
    /trials/<000000>/      attrs: the trial's attributes; spikes/, traces/, weights/, metrics/ as above

Crash safety. HDF5 is not journaled: adding a group or a dataset rewrites the
superblock, object headers, B-trees, heaps and free-space information in place,
in several places of the file, and the library's metadata cache decides when
those blocks reach the file. A process killed while it writes (or flushes) them
leaves some blocks new and others old, and the whole file may no longer open,
losing every trial it held, not only the last one. The HDF Group says so itself
("HDF5 files written via calls to the HDF5 library are susceptible to corruption
in the event of application or system crash", RFC THG 2007-08-01, *Metadata
Journaling to Improve Crash Survivability*; that journaling never shipped).
``flush()`` narrows the window but cannot close it, and SWMR only lets a single
writer extend *existing* datasets: it cannot create the groups a new trial needs.
So nothing here is ever appended to a file that holds finished results:

* a run works in a sibling directory ``<out>.partial/``: ``run.json`` (meta and
  config), ``main.h5`` (:meth:`ResultsWriter.write_main`) and one small HDF5 file
  per finished trial, ``trial_<000000>.h5``;
* every one of these files is written under a ``.tmp`` name, closed, fsync'ed,
  then renamed to its final name with :func:`os.replace` (an atomic ``rename(2)``),
  and the directory is fsync'ed: a file with a final name is therefore always
  complete, and a kill at any instant loses at most the trial being written,
  whose ``.tmp`` file is ignored by the reader and removed on resume;
* :meth:`ResultsWriter.close` assembles ``<out>`` from those files into a ``.tmp``
  file inside the working directory, fsyncs it, renames it to ``<out>`` and only
  then removes the working directory. Until that rename ``<out>`` does not exist;
  after it, ``<out>`` is complete (a working directory left by a kill at that moment
  is a stale copy that :func:`read_results` ignores);
* an ``flock`` on ``<out>.partial/lock`` keeps two writers (two ``--resume``) off
  the same run; the kernel drops it when a process dies, so a killed run resumes.

:func:`read_results` reads a finished file or, when there is none, the finished
trials of an unfinished run (``complete=False``).
"""

from __future__ import annotations

from neurosim.io_files import ensure_parent as ensure_parent
from neurosim.io_format import FORMAT, FORMAT_VERSION, Record, Results
from neurosim.io_format import GROUPS as GROUPS
from neurosim.io_format import MAX_TRIAL as MAX_TRIAL
from neurosim.io_format import META_RESERVED as META_RESERVED
from neurosim.io_format import PARTIAL_SUFFIX as PARTIAL_SUFFIX
from neurosim.io_reader import read_results
from neurosim.io_writer import ResultsWriter, save_simulation

__all__ = ["FORMAT", "FORMAT_VERSION", "Record", "Results", "ResultsWriter", "read_results", "save_simulation"]
