<?xml version="1.0" encoding="UTF-8"?>
<!--
  Campus output template: a CSV voucher file from a payment_data export.

  One row per fund distribution of each invoice line, after a header row. Dates become
  YYYY-MM-DD; text is quoted when it holds a comma, a quote or a line break (quotes doubled);
  rows end with CR LF. Columns:
    voucher_id        the invoice's unique_identifier (16 digits)
    invoice_number
    vendor            vendor_FinancialSys_Code, or vendor_code when the vendor has none
    invoice_date      due_date (empty when the invoice has none)
    currency          of the invoice
    line              invoice line number
    fund              the fund's external id (the ERP's account)
    amount            what the line charges the fund, in the invoice currency
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:p="http://com/exlibris/repository/acq/invoice/xmlbeans">
  <xsl:output method="text" media-type="text/csv" encoding="UTF-8"/>

  <xsl:variable name="crlf" select="'&#13;&#10;'"/>

  <xsl:template match="/">
    <xsl:text>voucher_id,invoice_number,vendor,invoice_date,due_date,currency,line,fund,amount</xsl:text>
    <xsl:value-of select="$crlf"/>
    <xsl:for-each select="p:payment_data/p:invoice_list/p:invoice">
      <xsl:variable name="invoice" select="."/>
      <xsl:for-each select="p:invoice_line_list/p:invoice_line/p:fund_info_list/p:fund_info">
        <xsl:call-template name="field"><xsl:with-param name="text" select="$invoice/p:unique_identifier"/></xsl:call-template>,<xsl:call-template name="field"><xsl:with-param name="text" select="$invoice/p:invoice_number"/></xsl:call-template>,<xsl:call-template name="field">
          <xsl:with-param name="text">
            <xsl:choose>
              <xsl:when test="normalize-space($invoice/p:vendor_FinancialSys_Code)"><xsl:value-of select="$invoice/p:vendor_FinancialSys_Code"/></xsl:when>
              <xsl:otherwise><xsl:value-of select="$invoice/p:vendor_code"/></xsl:otherwise>
            </xsl:choose>
          </xsl:with-param>
        </xsl:call-template>,<xsl:call-template name="iso-date"><xsl:with-param name="us" select="$invoice/p:invoice_date"/></xsl:call-template>,<xsl:call-template name="iso-date"><xsl:with-param name="us" select="$invoice/p:invoice_due_date"/></xsl:call-template>,<xsl:value-of select="$invoice/p:invoice_amount/p:currency"/>,<xsl:value-of select="../../p:line_number"/>,<xsl:call-template name="field"><xsl:with-param name="text" select="p:external_id"/></xsl:call-template>,<xsl:value-of select="p:amount/p:sum"/>
        <xsl:value-of select="$crlf"/>
      </xsl:for-each>
    </xsl:for-each>
  </xsl:template>

  <!-- MM/DD/YYYY as YYYY-MM-DD; empty stays empty -->
  <xsl:template name="iso-date">
    <xsl:param name="us"/>
    <xsl:if test="string-length($us) = 10">
      <xsl:value-of select="concat(substring($us, 7, 4), '-', substring($us, 1, 2), '-', substring($us, 4, 2))"/>
    </xsl:if>
  </xsl:template>

  <!-- a CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line break -->
  <xsl:template name="field">
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="contains($text, ',') or contains($text, '&quot;') or contains($text, '&#10;') or contains($text, '&#13;')">
        <xsl:text>"</xsl:text>
        <xsl:call-template name="double-quotes"><xsl:with-param name="text" select="$text"/></xsl:call-template>
        <xsl:text>"</xsl:text>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="double-quotes">
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="contains($text, '&quot;')">
        <xsl:value-of select="substring-before($text, '&quot;')"/><xsl:text>""</xsl:text>
        <xsl:call-template name="double-quotes"><xsl:with-param name="text" select="substring-after($text, '&quot;')"/></xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
