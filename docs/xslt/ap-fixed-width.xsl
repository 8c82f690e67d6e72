<?xml version="1.0" encoding="UTF-8"?>
<!--
  Campus output template: a fixed-width accounts payable (AP) file from a payment_data export.

  Every record is 80 characters and ends with LF. Text is left-aligned, padded with spaces and cut
  at its width; amounts are in minor units (cents), right-aligned, zero-padded, with a leading "-"
  when negative. Records:

    H  header       pos 1 "H", 2-9 date of the first invoice (YYYYMMDD), 10-15 invoices (000000),
                    16-80 spaces
    I  invoice      pos 1 "I", 2-11 vendor (vendor_FinancialSys_Code, else vendor_code),
                    12-31 invoice number, 32-39 invoice date (YYYYMMDD), 40-42 currency,
                    43-54 amount (cents), 55-70 voucher id (unique_identifier), 71-80 spaces
    D  distribution pos 1 "D", 2-5 line number (0000), 6-21 fund external id, 22-33 amount (cents),
                    34-80 spaces
    T  trailer      pos 1 "T", 2-7 records in the file including H and T (000000),
                    8-22 total of the invoice amounts (cents), 23-80 spaces
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:p="http://com/exlibris/repository/acq/invoice/xmlbeans">
  <xsl:output method="text" encoding="UTF-8"/>

  <xsl:variable name="spaces" select="'                                                                                '"/>
  <xsl:variable name="invoices" select="p:payment_data/p:invoice_list/p:invoice"/>

  <xsl:template match="/">
    <xsl:call-template name="record">
      <xsl:with-param name="text" select="concat('H', substring(concat($invoices[1]/p:invoice_date, '          '), 7, 4),
                                                 substring($invoices[1]/p:invoice_date, 1, 2), substring($invoices[1]/p:invoice_date, 4, 2),
                                                 format-number(count($invoices), '000000'))"/>
    </xsl:call-template>
    <xsl:for-each select="$invoices">
      <xsl:variable name="vendor">
        <xsl:choose>
          <xsl:when test="normalize-space(p:vendor_FinancialSys_Code)"><xsl:value-of select="p:vendor_FinancialSys_Code"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="p:vendor_code"/></xsl:otherwise>
        </xsl:choose>
      </xsl:variable>
      <xsl:variable name="amount">
        <xsl:call-template name="cents"><xsl:with-param name="value" select="p:invoice_amount/p:sum"/></xsl:call-template>
      </xsl:variable>
      <xsl:call-template name="record">
        <xsl:with-param name="text" select="concat('I', substring(concat($vendor, $spaces), 1, 10),
                                                   substring(concat(p:invoice_number, $spaces), 1, 20),
                                                   substring(p:invoice_date, 7, 4), substring(p:invoice_date, 1, 2), substring(p:invoice_date, 4, 2),
                                                   substring(concat(p:invoice_amount/p:currency, '   '), 1, 3), $amount,
                                                   substring(concat(p:unique_identifier, $spaces), 1, 16))"/>
      </xsl:call-template>
      <xsl:for-each select="p:invoice_line_list/p:invoice_line/p:fund_info_list/p:fund_info">
        <xsl:variable name="charged">
          <xsl:call-template name="cents"><xsl:with-param name="value" select="p:amount/p:sum"/></xsl:call-template>
        </xsl:variable>
        <xsl:call-template name="record">
          <xsl:with-param name="text" select="concat('D', format-number(../../p:line_number, '0000'),
                                                     substring(concat(p:external_id, $spaces), 1, 16), $charged)"/>
        </xsl:call-template>
      </xsl:for-each>
    </xsl:for-each>
    <xsl:variable name="total">
      <xsl:call-template name="cents">
        <xsl:with-param name="value" select="sum($invoices/p:invoice_amount/p:sum)"/>
        <xsl:with-param name="width" select="15"/>
      </xsl:call-template>
    </xsl:variable>
    <xsl:call-template name="record">
      <xsl:with-param name="text" select="concat('T', format-number(2 + count($invoices) + count($invoices/p:invoice_line_list/p:invoice_line/p:fund_info_list/p:fund_info), '000000'),
                                                 $total)"/>
    </xsl:call-template>
  </xsl:template>

  <!-- an amount in cents, zero-padded to width characters, a leading "-" when negative -->
  <xsl:template name="cents">
    <xsl:param name="value"/>
    <xsl:param name="width" select="12"/>
    <xsl:variable name="cents" select="round($value * 100)"/>
    <xsl:variable name="zeros" select="substring('000000000000000000000000', 1, $width - 1)"/>
    <xsl:choose>
      <xsl:when test="$cents &lt; 0"><xsl:value-of select="concat('-', format-number(-$cents, $zeros))"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="format-number($cents, concat('0', $zeros))"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- one 80-character record and its line end -->
  <xsl:template name="record">
    <xsl:param name="text"/>
    <xsl:value-of select="substring(concat($text, $spaces), 1, 80)"/>
    <xsl:text>&#10;</xsl:text>
  </xsl:template>
</xsl:stylesheet>
