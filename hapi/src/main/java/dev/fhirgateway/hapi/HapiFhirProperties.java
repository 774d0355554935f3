package dev.fhirgateway.hapi;

import ca.uhn.fhir.context.FhirVersionEnum;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings.ClientIdStrategyEnum;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code hapi.fhir} settings of {@code hapi/application.yaml}, the file the
 * hapiproject/hapi image reads under docker compose.
 *
 * <p>Unknown keys fail the start-up: a setting added to that file for the image must be
 * applied here too, or the two servers would silently differ. A key left out means what
 * it means in the image (the defaults below are the image's).
 */
@ConfigurationProperties(prefix = "hapi.fhir", ignoreUnknownFields = false)
public record HapiFhirProperties(
		@DefaultValue("R4") FhirVersionEnum fhirVersion,
		@DefaultValue("ALPHANUMERIC") ClientIdStrategyEnum clientIdStrategy,
		@DefaultValue("false") boolean allowCascadingDeletes,
		@DefaultValue("false") boolean allowMultipleDelete,
		@DefaultValue("true") boolean enforceReferentialIntegrityOnWrite,
		@DefaultValue("true") boolean enforceReferentialIntegrityOnDelete,
		@DefaultValue("false") boolean allowExternalReferences,
		@DefaultValue("true") boolean allowContainsSearches,
		@DefaultValue("false") boolean ipsEnabled,
		@DefaultValue("20") int defaultPageSize,
		@DefaultValue("2147483647") int maxPageSize,
		@DefaultValue("60000") long reuseCachedSearchResultsMillis,
		@DefaultValue("true") boolean narrativeEnabled,
		@DefaultValue("true") boolean expungeEnabled) {

	public HapiFhirProperties {
		if (fhirVersion != FhirVersionEnum.R4) {
			throw new IllegalArgumentException("hapi.fhir.fhir_version: this server serves R4 only, not " + fhirVersion);
		}
		if (ipsEnabled) {
			// The gateway answers Patient/$summary itself; HAPI's IPS generator is not part of this build.
			throw new IllegalArgumentException("hapi.fhir.ips_enabled: true is not supported by this server");
		}
	}

	/** How long HAPI may answer a repeated search from its cache; {@code null} (set as 0) never. */
	public Long searchResultReuseMillis() {
		return reuseCachedSearchResultsMillis == 0 ? null : reuseCachedSearchResultsMillis;
	}
}
