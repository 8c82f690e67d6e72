"""Reports: spending by month, vendor and fund type, open encumbrances by age, invoices by status
and by days waiting; each a server-rendered SVG chart with its table and its CSV/XLSX export."""
