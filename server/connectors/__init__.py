"""Clearinghouse connectors behind one port (``port.py``): X12 batch over SFTP, and the
Change Healthcare / Optum Medical Network JSON API served by CHC and by Stedi."""
