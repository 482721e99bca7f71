"""The gettext catalogues (`<locale>/LC_MESSAGES/flyo.po`), a package only so that an installed FlyO ships them
(pyproject's package data); core.i18n reads them from here."""
