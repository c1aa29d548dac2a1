import eventlet
eventlet.monkey_patch()

# The patch must come before anything else is imported: nameko's test helpers (and psycopg2
# under eventlet) need green sockets and threads. Nothing else belongs in this file.
