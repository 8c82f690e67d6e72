"""Telling people what waits for them: notifications in the app (the bell) and by e-mail, at once
or in a daily digest, per user and kind; finance job-end e-mail to a profile's recipients."""
