"""What the library sends its vendors: orders, cancellations, claims and payment notices, made
from letter templates (:mod:`app.letters`) and EDI ORDERS files, stored first and delivered by a
background job through the vendor's channel (e-mail, EDI, print or none)."""
