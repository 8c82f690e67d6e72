"""Safe defaults. create_app layers instance/config.py and FLASK_* environment variables on top."""
from datetime import timedelta


class Defaults:
    SECRET_KEY = None  # create_app generates one into instance/secret_key when none is configured
    SQLALCHEMY_DATABASE_URI = None  # default: sqlite:///<instance>/acq.db
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Waiting for locks (app/database.py, app/busy.py). A web request waits this long, then answers
    # 503 "busy, try again"; jobs, background runs and commands wait longer.
    SQLITE_BUSY_TIMEOUT_MS = 5000          # web requests on SQLite
    SQLITE_JOB_BUSY_TIMEOUT_MS = 60000     # jobs, background runs, CLI commands on SQLite
    DB_LOCK_TIMEOUT_MS = 5000              # PostgreSQL lock_timeout of web requests (0: none)
    BUSY_RETRY_AFTER_SECONDS = 2           # Retry-After of a 503 "busy" answer
    # Big loads (Excel invoice files, the Aleph migration) commit in chunks: each holds its locks
    # about this long, then (on SQLite) pauses so that writers waiting for the lock get it.
    LOAD_CHUNK_SECONDS = 0.1
    LOAD_PAUSE_SECONDS = 0.1
    LOAD_PROCESS_FROM_BYTES = 100_000      # an Excel invoice file this big loads in a process of its own
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # set True when served over HTTPS
    SESSION_COOKIE_NAME = "acq_session"
    REMEMBER_COOKIE_HTTPONLY = True
    # Sessions and logins (app/auth/services.py). A login lasts at most PERMANENT_SESSION_LIFETIME
    # from the moment of logging in, and ends sooner when unused for SESSION_IDLE_TIMEOUT.
    PERMANENT_SESSION_LIFETIME = timedelta(days=7)
    SESSION_IDLE_TIMEOUT = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)  # failed logins count this long
    LOGIN_MAX_FAILURES = 5                # per user name and address: more are refused until they age out
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30   # per address, any user name: likewise
    LOGIN_MAX_DELAY = 4.0                 # seconds: past LOGIN_MAX_FAILURES for a user name from anywhere,
                                          # its logins wait 0.5 s, 1 s, 2 s ... up to this (nobody is refused)
    PROXY_FIX_X_FOR = 0                   # behind N reverse proxies: trust N X-Forwarded-For hops for the address
    PASSWORD_MIN_LENGTH = 12
    INSTITUTION_CODE = "INST"
    INSTITUTION_NAME = "Institution"
    INSTITUTION_CURRENCY = "EUR"
    DEFAULT_LANGUAGE = "en"                # the interface's language when neither the user nor the browser chooses
                                           # one: "en" or "zh_Hans" (app.i18n.LANGUAGES)
    PAGE_SIZE = 50
    WORK_WAITING_FOR_PAYMENT_DAYS = 30   # My work lists invoices Waiting for Payment for longer than this
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # uploads (attachments, rate and invoice files); larger is a 413
    INVOICE_FILE_FOLDER = None         # uploaded invoice spreadsheets between preview and load; default instance/uploads/invoice-files
    INVOICE_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024   # the largest file that may be attached to an invoice
    SCHEDULER_ENABLED = False          # start the in-process scheduler (one process only: see app/integrations/scheduler.py)
    SCHEDULER_TIMEZONE = None          # default: the server's zone; schedules' times are read in it
    SCHEDULER_RECONCILE_SECONDS = 5    # how soon the scheduler follows a change of a profile
    SCHEDULER_LOCK_FILE = None         # default: instance/scheduler.lock (SQLite; PostgreSQL uses an advisory lock)
    SCHEDULER_LEADER_RETRY_SECONDS = 10   # how soon another process takes over when the scheduler's process stops
    SCHEDULE_INTERVAL_OVERRIDE_SECONDS = None   # tests only: every scheduled section runs every N seconds
    # Finance (ERP) integration
    INSTANCE_ENVIRONMENT = "production"  # anything else: only ERP_CONNECTION_ALLOWLIST connections are used
    ERP_CONNECTION_ALLOWLIST: list = []  # connection codes a non-production instance may use
    CONNECTION_SECRET_KEY = None       # Fernet key for connection secrets; default: instance/connection_key
    ERP_TIMEOUT = 30                   # seconds for connecting and for each network read or write
    ERP_IMPORT_MIN_AGE_SECONDS = 10    # an input file written more recently is left for the next run
    ERP_UPLOAD_PROCESS_FROM = 500      # from this many files, the invoice export uploads from a child process
    ERP_ORDER_RETRY_SECONDS = 60       # after a failed PO export, wait this long before the next try
    # Outgoing e-mail (claims and letters to vendors), see app/mail.py. MAIL_SERVER "" (the default)
    # sends nothing: each message is written as a .eml file to MAIL_CATCH_ALL_FOLDER instead.
    MAIL_SERVER = ""
    MAIL_CATCH_ALL_FOLDER = None       # default: instance/mail
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS after connecting
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_SENDER = "acquisitions@library.invalid"
    MAIL_TIMEOUT = 10  # seconds
    # Letters to vendors (app/outgoing): stored first, delivered by the send_letters job.
    LETTER_FOLDER = None               # their PDFs and EDI files; default: instance/letters
    # "Package and send" packages in the request up to this many ready lines, else as a background run.
    PACKAGE_IN_REQUEST_MAX_LINES = 100
    # The app's address as people reach it (e.g. "https://acq.library.example"): the links in e-mailed
    # notifications and digests; without it they are paths (a request's own address is used when there is one).
    APP_BASE_URL = ""
    OUTGOING_KICK = True               # start a delivery right after the commit that queued a letter
    OUTGOING_INTERVAL_SECONDS = 60     # the scheduler's send_letters run (retries and missed kicks)
    OUTGOING_RETRY_SECONDS = 60        # back-off base: a failed attempt waits 60 s, 120 s, 240 s ... at most 1 h
    OUTGOING_MAX_ATTEMPTS = 8          # then the letter is marked failed (Monitor Jobs, the PO's page: send again)
    # Backups (app/backup): `flask backup`, `flask restore`, and the scheduler's daily backup.
    BACKUP_FOLDER = None               # default: instance/backups (better: a folder on another disk)
    BACKUP_SCHEDULE = "02:00"          # the scheduler's daily backup, HH:MM in SCHEDULER_TIMEZONE; "" for none
    BACKUP_KEEP = 14                   # the daily backup keeps the newest N archives in BACKUP_FOLDER
