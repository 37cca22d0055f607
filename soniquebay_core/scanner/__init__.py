"""The scanner: walk library folders, read what changed, write the library in batches.

Flow (one pass, bounded memory):

    walk.py     os.scandir folder by folder, ignore rules (asked once per folder),
       │        symlink policy; yields one listing per folder (path, size, mtime
       │        of each file)
    scan.py     gathers listings into batches of ~batch_size files; per batch:
       │          1. folders whose listing has the digest of their stored state
       │             are unchanged as a whole (library/folder_states.py); one
       │             query for what the DB knows about the other folders' files
       │          2. classify: unchanged (skip) / new / changed / vanished
       │          3. read tags of new and changed files (reading.py: one file;
       │             reader.py: worker processes, whose loop is reader_worker.py,
       │             and a thread share the batch, chunk by chunk)
       │          4. write the batch and its folders' states in one transaction
       │             (library/writer.py)
       │          5. tell plugins (on_file_discovered), report progress
    end of scan: folders that disappeared, moved files (a vanished track and a
    new one with the same size and mtime keep the old id), orphans.
"""
